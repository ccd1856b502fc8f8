#!/usr/bin/python3
# smtp.py - the tests' SMTP server on 127.0.0.1 (Debian's python3-aiosmtpd):
# keeps each mail it accepts as a JSON file {from, to, data} in --dir, and
# answers by the recipient's address: one whose local part starts with
# "refuse-" gets 550 (for good), "later-" gets 451 (try again) the first
# time, then is taken. Writes its port to --port-file once it listens.
# Runs until SIGTERM.
import argparse
import asyncio
import json
import os
import signal
import socket
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, folder):
        self.folder = folder
        self.n = 0
        self.later = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split('@')[0].lower()
        # The answers quote the address, as real relays do: carebox must
        # not copy it into the job's error.
        if local.startswith('refuse-'):
            return f'550 5.1.1 <{address}>: mailbox unavailable'
        if local.startswith('later-') and address.lower() not in self.later:
            self.later.add(address.lower())
            return f'451 4.3.0 <{address}>: try again later'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        name = f'{time.time_ns()}-{self.n:06d}'
        tmp = os.path.join(self.folder, f'.{name}.tmp')
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump({'from': envelope.mail_from, 'to': envelope.rcpt_tos,
                       'data': envelope.original_content.decode('utf-8', 'replace')}, f)
        os.rename(tmp, os.path.join(self.folder, f'{name}.json'))
        return '250 2.0.0 accepted'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True)
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--port-file')
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    port = args.port or free_port()
    controller = Controller(Handler(args.dir), hostname='127.0.0.1', port=port,
                            decode_data=False)
    controller.start()
    if args.port_file:
        with open(args.port_file + '.new', 'w') as f:
            f.write(str(port))
        os.rename(args.port_file + '.new', args.port_file)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


if __name__ == '__main__':
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
