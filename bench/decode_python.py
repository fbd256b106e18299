"""The decode benchmark's baseline: python-mysql-replication streaming one binlog file.

Connects to the server as a replica, reads the given binlog file from its start, decodes every
row event of the given schema (reading ``event.rows`` decodes the values) until ``--rows`` rows
were seen or the file ends, and prints one JSON line: {"rows": N, "seconds": S, "cpu_seconds": C, "first_row_seconds": F}:
wall-clock and CPU (user + system) time from the connection to the last row, and wall-clock
time to the first row.
"""

import argparse
import json
import sys
import time

from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--server-id", type=int, required=True)
    parser.add_argument("--file", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--rows", type=int, required=True)
    arguments = parser.parse_args()

    started = time.perf_counter()
    cpu_started = time.process_time()
    stream = BinLogStreamReader(
        connection_settings={"host": arguments.host, "port": arguments.port, "user": "root", "passwd": ""},
        server_id=arguments.server_id,
        log_file=arguments.file,
        log_pos=4,
        resume_stream=True,
        blocking=False,
        only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent],
        only_schemas=[arguments.schema],
    )
    rows = 0
    first_row = None
    last_row = started
    last_row_cpu = cpu_started
    try:
        for event in stream:
            for row in event.rows:
                if first_row is None:
                    first_row = time.perf_counter()
                rows += 1
                if rows == 1 and not row:
                    raise SystemExit("python-mysql-replication decoded an empty row")
            last_row = time.perf_counter()
            last_row_cpu = time.process_time()
            if rows >= arguments.rows:
                break
    finally:
        stream.close()
    print(json.dumps({"rows": rows, "seconds": last_row - started,
                      "cpu_seconds": last_row_cpu - cpu_started,
                      "first_row_seconds": (first_row or last_row) - started}))
    return 0 if rows >= arguments.rows else 1


if __name__ == "__main__":
    sys.exit(main())
