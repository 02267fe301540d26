# SPDX-License-Identifier: BSD-3-Clause
"""An SMTP server for the mail benchmark, in a process of its own (so that nothing else the
benchmark does competes with it for the interpreter): accepts everything on 127.0.0.1:PORT,
appends one byte to COUNT_FILE per message, keeps the first message in FIRST_FILE.
Runs until killed.   smtp_sink.py PORT COUNT_FILE FIRST_FILE"""

import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, count_file, first_file):
        self.count = open(count_file, "ab", buffering=0)
        self.first_file = first_file
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        if self.n == 0:
            with open(self.first_file, "wb") as f:
                f.write(envelope.original_content or envelope.content)
        self.n += 1
        self.count.write(b".")
        return "250 2.0.0 Ok"


def main():
    port, count_file, first_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    c = Controller(Sink(count_file, first_file), hostname="127.0.0.1", port=port)
    c.start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
