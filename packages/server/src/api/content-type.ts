import type { FastifyRequest } from 'fastify';
import { Errors } from './errors.js';

/**
 * A `preValidation` hook for routes whose body is not JSON (SDP, trickle fragments): another content type is 415
 * `unsupported_media_type`, before the body's schema is checked.
 */
export const requireContentType =
  (type: string) =>
  async (req: FastifyRequest): Promise<void> => {
    const got = req.headers['content-type'];
    if (!got?.toLowerCase().startsWith(type)) throw Errors.unsupportedMediaType(got, type);
  };
