"""A mock of the OpenAI Responses API for driving the real `codex exec` offline.

Run as a program: ``python mock_responses.py PORT_FILE COMMAND``. It listens on 127.0.0.1
only (an ephemeral port, written to PORT_FILE once it is ready) and answers every
``POST /v1/responses``: a request without a ``function_call_output`` gets one
``exec_command`` call running COMMAND, a request with one gets a final message. ``GET
/v1/models`` gets an empty list. The first answer waits a second: Codex takes its login-shell
snapshot in the background at session start, and a command that runs before it is ready runs
as a plain ``bash -lc`` instead (seen once in a few runs). Each request body is appended to
PORT_FILE + ".log" as one JSON line. The test that starts it stops it by its pid.
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def _events(body: dict[str, object], command: str) -> list[tuple[str, dict[str, object]]]:
    items = body.get("input")
    answered = isinstance(items, list) and any(
        isinstance(item, dict) and item.get("type") == "function_call_output" for item in items
    )
    if answered:
        item: dict[str, object] = {
            "type": "message",
            "role": "assistant",
            "id": "msg_2",
            "status": "completed",
            "content": [{"type": "output_text", "text": "done", "annotations": []}],
        }
    else:
        arguments = json.dumps({"cmd": command, "yield_time_ms": 10000})
        item = {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "exec_command",
            "arguments": arguments,
            "status": "completed",
        }
    response = {"id": "resp_1", "object": "response", "status": "in_progress", "output": []}
    usage = {
        "input_tokens": 1,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 1,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 2,
    }
    done = {**response, "status": "completed", "output": [item], "usage": usage}
    return [
        ("response.created", {"type": "response.created", "response": response}),
        (
            "response.output_item.done",
            {"type": "response.output_item.done", "output_index": 0, "item": item},
        ),
        ("response.completed", {"type": "response.completed", "response": done}),
    ]


def main() -> None:
    port_file, command = Path(sys.argv[1]), sys.argv[2]
    log = port_file.with_name(port_file.name + ".log")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

        def do_GET(self) -> None:
            payload = json.dumps({"object": "list", "data": [], "models": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            if not log.exists():
                time.sleep(1.0)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            with log.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"path": self.path, "body": body}) + "\n")
            stream = "".join(
                f"event: {kind}\ndata: {json.dumps(data)}\n\n"
                for kind, data in _events(body, command)
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(stream)))
            self.end_headers()
            self.wfile.write(stream)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    temporary = port_file.with_name(port_file.name + ".tmp")
    temporary.write_text(str(server.server_address[1]), encoding="utf-8")
    temporary.replace(port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
