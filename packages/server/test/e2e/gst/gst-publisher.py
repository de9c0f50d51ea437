#!/usr/bin/env python3
"""Publishes a video file to a Sightline server as H.264, through GStreamer's webrtcbin: an encoder that is not a browser.

    gst-publisher.py offer URL KEY CLIP SECONDS [--processor NAME]
    gst-publisher.py whip  URL KEY CLIP SECONDS [--processor NAME] [--wait-stdin]

offer: POST {URL}/webrtc/offer (JSON, `api-key` header) with a DataChannel "results" made before the offer; ICE
       gathering completes before the POST (non-trickle). Every DataChannel message is printed as it came (one JSON a line).
whip:  POST {URL}/whip (application/sdp, `Authorization: Bearer KEY`): 201 and a Location. Results are not read here:
       a reader takes them from GET {URL}/sessions/{id}/events. With --wait-stdin the first frame waits for a line on
       standard input, so that the reader can subscribe before any result exists.

The clip is decoded, encoded by x264 and paced at its own frame rate. Its first frame waits until the connection is up
(and, in offer mode, the DataChannel is open), so the N-th frame sent is the clip's N-th frame (0-based) and the
server's frame_id of it should be N as well. After SECONDS of sending (or at the clip's end) sending stops, results
still in flight get a second to arrive, then the session is DELETEd and the script exits 0.

Lines of its own are JSON objects with a "publisher" key: {"publisher": "offer" | "answer", "sdp": ...}, {"publisher":
"session", "id": ..., "location": ...}, {"publisher": "sent", "frames": N} at the end, {"publisher": "http_error", "status", "body",
"ms"} when the server refuses the offer (exit 2). Progress and GStreamer's complaints go to stderr. Exit 1 on any failure.
"""

import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

PIPELINE = """
  filesrc location="{clip}" ! decodebin ! videoconvert ! video/x-raw,format=I420
  ! x264enc name=enc tune=zerolatency speed-preset=ultrafast key-int-max=30
  ! video/x-h264,profile=constrained-baseline
  ! clocksync name=pace
  ! rtph264pay config-interval=-1 aggregate-mode=zero-latency
  ! application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,packetization-mode=(string)1
  ! webrtcbin name=webrtc bundle-policy=max-bundle
"""
GRACE_S = 1.0  # for the results of the last frames
CONNECT_TIMEOUT_S = 20


def say(kind, **fields):
    print(json.dumps({"publisher": kind, **fields}), flush=True)


def log(text):
    print(f"gst-publisher: {text}", file=sys.stderr, flush=True)


class Publisher:
    def __init__(self, args):
        self.args = args
        self.base = args.url.rstrip("/")
        self.loop = GLib.MainLoop()
        self.pipe = Gst.parse_launch(PIPELINE.format(clip=args.clip))
        self.webrtc = self.pipe.get_by_name("webrtc")
        self.pace = self.pipe.get_by_name("pace")
        self.channel = None
        self.resource = None  # what DELETE ends: the session or the WHIP resource
        self.exit_code = 1
        # The gate the first frame waits at: connected, DataChannel open (offer mode), and the reader's go (--wait-stdin).
        self.waiting_for = {"connected"} | ({"channel"} if args.mode == "offer" else set()) | ({"stdin"} if args.wait_stdin else set())
        self.gate = threading.Event()
        self.stopping = False
        self.sent = 0
        self.offered = False
        self.posted = False
        self.last_http_ms = None  # how long the last HTTP request took

        # A publisher only sends (webrtcbin's transceivers are sendrecv unless told).
        self.webrtc.emit("get-transceiver", 0).set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        enc_src = self.pipe.get_by_name("enc").get_static_pad("src")
        enc_src.add_probe(Gst.PadProbeType.BUFFER, self.on_encoded_frame)
        self.webrtc.connect("notify::connection-state", self.on_connection_state)
        self.webrtc.connect("notify::ice-gathering-state", self.on_gathering_state)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_error)
        bus.connect("message::eos", lambda *_: self.stop_sending("the clip ended"))

    # Media ---------------------------------------------------------------------------------------------------------

    def on_encoded_frame(self, pad, info):
        """Runs in the streaming thread for each encoded frame: the first one triggers the offer, then waits for the gate."""
        if not self.offered:
            self.offered = True  # the caps are known downstream now: the offer can describe the H.264 stream
            GLib.idle_add(self.make_offer)
        self.gate.wait()
        if self.stopping:
            return Gst.PadProbeReturn.DROP
        if self.sent == 0:
            # Pace from now: the clock has run on while this frame waited.
            now = self.pipe.get_clock().get_time() - self.pipe.get_base_time()
            segment = pad.get_sticky_event(Gst.EventType.SEGMENT, 0).parse_segment()
            self.pace.set_property("ts-offset", now - segment.to_running_time(Gst.Format.TIME, info.get_buffer().pts))
            GLib.idle_add(self.start_timer)
        self.sent += 1
        return Gst.PadProbeReturn.OK

    def open_gate(self, reason):
        self.waiting_for.discard(reason)
        if not self.waiting_for and not self.gate.is_set():
            log("sending")
            self.gate.set()

    def start_timer(self):
        GLib.timeout_add(int(self.args.seconds * 1000), lambda: self.stop_sending(f"{self.args.seconds} s sent"))
        return False

    def stop_sending(self, why):
        if self.stopping:
            return False
        log(f"stop sending: {why}")
        self.stopping = True
        self.gate.set()
        GLib.timeout_add(int(GRACE_S * 1000), self.finish)
        return False

    def finish(self):
        say("sent", frames=self.sent)
        self.delete()
        self.exit_code = 0
        self.loop.quit()
        return False

    # Signalling ----------------------------------------------------------------------------------------------------

    def make_offer(self):
        if self.args.mode == "offer":
            self.channel = self.webrtc.emit("create-data-channel", "results", None)
            self.channel.connect("on-open", lambda *_: GLib.idle_add(self.open_gate, "channel"))
            self.channel.connect("on-message-string", lambda _ch, text: print(text, flush=True))
            self.channel.connect("on-error", lambda *_: GLib.idle_add(self.fail, "the DataChannel failed"))
        self.webrtc.emit("create-offer", None, Gst.Promise.new_with_change_func(self.on_offer_created))
        return False

    def on_offer_created(self, promise):
        promise.wait()
        reply = promise.get_reply()
        offer = reply.get_value("offer")
        if offer is None:
            GLib.idle_add(self.fail, f"create-offer: {reply.to_string()}")
            return
        self.webrtc.emit("set-local-description", offer, Gst.Promise.new())
        # The POST waits for the end of ICE gathering: then the local description holds every candidate.

    def on_gathering_state(self, *_):
        if self.webrtc.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE and not self.posted:
            self.posted = True
            GLib.idle_add(self.post_offer)

    def post_offer(self):
        sdp = self.webrtc.get_property("local-description").sdp.as_text()
        say("offer", sdp=sdp)
        try:
            if self.args.mode == "offer":
                body = json.dumps({"sdp": sdp, "type": "offer", "processor": self.args.processor}).encode()
                headers = {"content-type": "application/json", "api-key": self.args.key}
                status, res_headers, text = self.http("POST", f"{self.base}/webrtc/offer", body, headers)
                answer = json.loads(text)
                answer_sdp, session_id = answer["sdp"], answer["session_id"]
                self.resource = (f"{self.base}/webrtc/sessions/{session_id}", {"api-key": self.args.key})
                say("session", id=session_id)
            else:
                query = urllib.parse.urlencode({"processor": self.args.processor})
                headers = {"content-type": "application/sdp", "authorization": f"Bearer {self.args.key}"}
                status, res_headers, answer_sdp = self.http("POST", f"{self.base}/whip?{query}", sdp.encode(), headers)
                if status != 201:
                    return self.fail(f"WHIP answered {status}, not 201")
                location = urllib.parse.urljoin(self.base + "/", res_headers["location"])
                self.resource = (location, {"authorization": f"Bearer {self.args.key}"})
                say("session", id=location.rstrip("/").rsplit("/", 1)[-1], location=res_headers["location"])
        except urllib.error.HTTPError as e:
            body = e.read().decode(errors="replace")
            say("http_error", status=e.code, body=body, content_type=e.headers.get("content-type"), ms=self.last_http_ms)
            self.exit_code = 2
            self.loop.quit()
            return False
        except (urllib.error.URLError, OSError, KeyError, ValueError) as e:
            return self.fail(f"the offer: {e!r}")
        say("answer", sdp=answer_sdp)
        _, message = GstSdp.SDPMessage.new_from_text(answer_sdp)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, message)
        self.webrtc.emit("set-remote-description", answer, Gst.Promise.new())
        if self.args.wait_stdin:
            threading.Thread(target=self.read_go, daemon=True).start()
        return False

    def read_go(self):
        sys.stdin.readline()
        GLib.idle_add(self.open_gate, "stdin")

    def on_connection_state(self, *_):
        state = self.webrtc.get_property("connection-state")
        log(f"connection {state.value_nick}")
        if state == GstWebRTC.WebRTCPeerConnectionState.CONNECTED:
            GLib.idle_add(self.open_gate, "connected")
        elif state == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            GLib.idle_add(self.fail, "the connection failed")

    def http(self, method, url, body=None, headers=None):
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=15) as res:
                return res.status, res.headers, res.read().decode()
        finally:
            self.last_http_ms = round((time.monotonic() - started) * 1000, 1)

    def delete(self):
        if self.resource:
            url, headers = self.resource
            self.resource = None
            try:
                status, _, _ = self.http("DELETE", url, headers=headers)
                log(f"DELETE {url}: {status}")
            except urllib.error.HTTPError as e:
                log(f"DELETE {url}: {e.code}")
            except (urllib.error.URLError, OSError) as e:
                log(f"DELETE {url}: {e!r}")

    # Failure -------------------------------------------------------------------------------------------------------

    def on_error(self, _bus, message):
        err, debug = message.parse_error()
        self.fail(f"{message.src.get_name()}: {err.message} ({debug})")

    def fail(self, why):
        log(f"failed: {why}")
        self.exit_code = 1
        self.stopping = True
        self.gate.set()
        self.delete()
        self.loop.quit()
        return False

    def connect_timeout(self):
        if self.sent == 0:
            self.fail(f"no frame sent after {CONNECT_TIMEOUT_S} s (waiting for: {', '.join(sorted(self.waiting_for))})")
        return False

    def run(self):
        if self.pipe.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            log("the pipeline would not start")
            return 1
        GLib.timeout_add_seconds(CONNECT_TIMEOUT_S, self.connect_timeout)
        try:
            self.loop.run()
        finally:
            self.stopping = True
            self.gate.set()  # the streaming thread may be waiting at the gate
            self.pipe.set_state(Gst.State.NULL)
        return self.exit_code


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["offer", "whip"])
    parser.add_argument("url", help="the server's base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("key", help="API key")
    parser.add_argument("clip", help="a video file GStreamer can decode (the test's y4m pan clip)")
    parser.add_argument("seconds", type=float, help="how long to send")
    parser.add_argument("--processor", default="face")
    parser.add_argument("--wait-stdin", action="store_true", help="send the first frame only after a line on stdin")
    args = parser.parse_args()
    Gst.init(None)
    sys.exit(Publisher(args).run())


if __name__ == "__main__":
    main()
