"""A tiny stand-in for the Anthropic Messages API, for running the real ``claude -p`` offline.

Run as a program (the test starts it and stops it by its pid)::

    python mock_messages_api.py --command 'env -0 > OUT' --log REQUESTS.jsonl

It listens on 127.0.0.1 only, on a free port it prints as the first line of stdout. Every
``POST /v1/messages`` that offers the ``Bash`` tool and does not yet hold that tool's result
is answered with one ``tool_use`` of ``Bash`` running ``--command``; every other request (the
turn after the tool result, title generation, quota checks) gets a short text answer. Answers
are streamed as the API streams them (``message_start`` … ``message_stop``) when the request
asks for ``stream``, and sent as one JSON message otherwise. Any other request gets ``{}``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ids = itertools.count(1)
_lock = threading.Lock()


def _wants_tool(request: dict[str, Any]) -> bool:
    """True when the model should answer with the Bash command: the Bash tool is offered
    and the last user message is not that tool's result."""
    tools = request.get("tools") or []
    if not any(isinstance(tool, dict) and tool.get("name") == "Bash" for tool in tools):
        return False
    messages = request.get("messages") or []
    if not messages:
        return False
    last = messages[-1]
    content = last.get("content")
    if isinstance(content, list):
        return not any(
            isinstance(block, dict) and block.get("type") == "tool_result" for block in content
        )
    return True


def _blocks(request: dict[str, Any], command: str) -> tuple[list[dict[str, Any]], str]:
    if _wants_tool(request):
        tool_input = {"command": command, "description": "Dump the environment"}
        return [
            {"type": "tool_use", "id": f"toolu_mock{next(_ids)}", "name": "Bash",
             "input": tool_input}
        ], "tool_use"  # fmt: skip
    return [{"type": "text", "text": "Done."}], "end_turn"


def _events(request: dict[str, Any], command: str) -> list[tuple[str, dict[str, Any]]]:
    blocks, stop = _blocks(request, command)
    usage = {"input_tokens": 10, "output_tokens": 1}
    message = {
        "id": f"msg_mock{next(_ids)}", "type": "message", "role": "assistant",
        "model": request.get("model", "mock"), "content": [], "stop_reason": None,
        "stop_sequence": None, "usage": usage,
    }  # fmt: skip
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": message})
    ]
    for index, block in enumerate(blocks):
        if block["type"] == "tool_use":
            start = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            start = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        events += [
            ("content_block_start",
             {"type": "content_block_start", "index": index, "content_block": start}),
            ("content_block_delta",
             {"type": "content_block_delta", "index": index, "delta": delta}),
            ("content_block_stop", {"type": "content_block_stop", "index": index}),
        ]  # fmt: skip
    events += [
        ("message_delta",
         {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
          "usage": {"output_tokens": 1}}),
        ("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    return events


def _message(request: dict[str, Any], command: str) -> dict[str, Any]:
    blocks, stop = _blocks(request, command)
    return {
        "id": f"msg_mock{next(_ids)}", "type": "message", "role": "assistant",
        "model": request.get("model", "mock"), "content": blocks, "stop_reason": stop,
        "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1},
    }  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the log file says it all
        pass

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            document = json.loads(raw or b"{}")
        except ValueError:
            document = {}
        return document if isinstance(document, dict) else {}

    def _record(self, request: dict[str, Any]) -> None:
        if self.server.log_path is None:
            return
        entry = {
            "method": self.command, "path": self.path,
            "tools": [t.get("name") for t in request.get("tools") or [] if isinstance(t, dict)],
            "stream": bool(request.get("stream")), "wants_tool": _wants_tool(request),
        }  # fmt: skip
        with _lock, open(self.server.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")

    def _send_json(self, document: object) -> None:
        data = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        request = self._body()
        self._record(request)
        if not self.path.split("?")[0].endswith("/v1/messages"):
            self._send_json({})
            return
        if not request.get("stream"):
            self._send_json(_message(request, self.server.command))
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        for name, data in _events(request, self.server.command):
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()

    def do_GET(self) -> None:
        self._record({})
        self._send_json({})

    do_HEAD = do_GET


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    command: str
    log_path: str | None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--command", required=True, help="the Bash command the model runs")
    parser.add_argument("--log", help="append one JSON line per request here")
    args = parser.parse_args()
    server = _Server(("127.0.0.1", 0), _Handler)
    server.command = args.command
    server.log_path = args.log
    sys.stdout.write(f"{server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
