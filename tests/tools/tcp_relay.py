#!/usr/bin/python3
# tests/tools/tcp_relay.py - a TCP relay that drops chosen connections, for
# the S3 fault tests (tests/integration/t_s3_faults.sh).
#
# Usage:
#     tcp_relay.py --target HOST:PORT --port-file FILE --log FILE
#                  [--hold-after-cut FILE] [--cut RULE]...
#
# It listens on a free port of 127.0.0.1 (written to --port-file once it
# listens, through a rename, so a reader never sees half a number) and
# relays every accepted connection to --target, bytes both ways, unchanged.
# It is a network fault between a real client and a real store, not a
# server: it never writes a byte of its own to either side.
#
# A RULE is DIR:BYTES[xTIMES]:PATTERN, DIR being "up" (client to store) or
# "down" (store to client). The first time PATTERN (a literal string, e.g.
# a request line "PUT /bucket/key ") appears in what a client sends, that
# connection is marked: with "up", it is cut once BYTES bytes counted from
# the start of PATTERN have been forwarded to the store; with "down", once
# BYTES more bytes of the store's reply have been forwarded to the client
# (0: before the reply's first byte, so the store got the whole request
# but the client gets nothing). Cutting closes both sockets. A rule fires
# TIMES times (1 by default), on as many connections; after that, later
# connections and requests pass untouched.
#
# --hold-after-cut FILE: once a connection was cut, a new connection is
# accepted but not relayed until FILE exists. The test gets a known point
# between the cut and the client's retry (the "cut" line in the log), does
# what it must there (e.g. changes the object), then creates FILE.
#
# The log gets one line per event, flushed at once:
#     conn N open
#     conn N cut up after BYTES bytes of 'PATTERN'
#     conn N closed
# Tests assert on the "cut" lines: which connections were cut, and where.
#
# The relay runs until killed (SIGTERM); the test that started it kills it
# by its PID.

import argparse
import os
import socket
import sys
import threading
import time


class Rule(object):
    def __init__(self, text):
        parts = text.split(':', 2)
        counts = parts[1].split('x', 1) if len(parts) == 3 else []
        if len(parts) != 3 or parts[0] not in ('up', 'down') or not parts[2] \
                or not all(c.isdigit() for c in counts):
            raise ValueError('a rule is up|down:BYTES[xTIMES]:PATTERN, not %r' % text)
        self.direction = parts[0]
        self.nbytes = int(counts[0])
        self.left = int(counts[1]) if len(counts) == 2 else 1
        self.pattern = parts[2].encode('utf-8')


class Relay(object):
    def __init__(self, target, rules, log, hold_file):
        self.target = target
        self.rules = rules
        self.log_file = log
        self.hold_file = hold_file
        self.lock = threading.Lock()
        self.nconn = 0
        self.ncuts = 0

    def log(self, line):
        with self.lock:
            self.log_file.write(line + '\n')
            self.log_file.flush()

    def claim(self, window):
        """The first rule with firings left whose pattern is in window,
        counted as fired, with the pattern's offset in window; (None, -1)
        when none."""
        with self.lock:
            for rule in self.rules:
                if rule.left == 0:
                    continue
                at = window.find(rule.pattern)
                if at >= 0:
                    rule.left -= 1
                    return rule, at
        return None, -1

    def serve(self, client):
        with self.lock:
            self.nconn += 1
            n = self.nconn
        if self.hold_file:
            # not a timing assumption: the test releases us by creating the file
            while self.ncuts and not os.path.exists(self.hold_file):
                time.sleep(0.05)
        try:
            store = socket.create_connection(self.target)
        except OSError as e:
            self.log('conn %d cannot reach the target: %s' % (n, e))
            client.close()
            return
        Connection(self, n, client, store).run()


class Connection(object):
    """One relayed connection: a thread per direction."""

    def __init__(self, relay, n, client, store):
        self.relay = relay
        self.n = n
        self.client = client
        self.store = store
        self.lock = threading.Lock()
        self.up_sent = 0       # bytes forwarded to the store
        self.down_sent = 0     # bytes forwarded to the client
        self.up_cut_at = None  # up_sent at which to cut
        self.down_cut_at = None
        self.rule = None
        self.cut = False

    def run(self):
        self.relay.log('conn %d open' % self.n)
        down = threading.Thread(target=self.pump_down, daemon=True)
        down.start()
        self.pump_up()
        down.join()
        self.client.close()
        self.store.close()
        self.relay.log('conn %d closed' % self.n)

    def do_cut(self, direction, nbytes):
        with self.lock:
            if self.cut:
                return
            self.cut = True
        with self.relay.lock:
            self.relay.ncuts += 1
        self.relay.log("conn %d cut %s after %d bytes of '%s'"
                       % (self.n, direction, nbytes, self.rule.pattern.decode('utf-8')))
        for s in (self.client, self.store):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def pump_up(self):
        keep = b''  # the end of what came before, for a pattern split in two reads
        longest = max([len(r.pattern) for r in self.relay.rules] or [1])
        while True:
            try:
                data = self.client.recv(65536)
            except OSError:
                data = b''
            if not data:
                break
            if self.rule is None and self.relay.rules:
                window = keep + data
                rule, at = self.relay.claim(window)
                if rule is not None:
                    start = self.up_sent - len(keep) + at  # the pattern's offset in the stream
                    with self.lock:
                        self.rule = rule
                        if rule.direction == 'up':
                            self.up_cut_at = start + rule.nbytes
                        else:
                            self.down_cut_at = self.down_sent + rule.nbytes
                keep = window[-(longest - 1):] if longest > 1 else b''
            if self.up_cut_at is not None and self.up_sent + len(data) >= self.up_cut_at:
                data = data[:max(self.up_cut_at - self.up_sent, 0)]
                if self.send(self.store, data):
                    self.up_sent += len(data)
                self.do_cut('up', self.rule.nbytes)
                break
            if not self.send(self.store, data):
                break
            self.up_sent += len(data)
        self.finish(self.store)

    def pump_down(self):
        while True:
            try:
                data = self.store.recv(65536)
            except OSError:
                data = b''
            if not data:
                break
            # Sending and counting under the lock: when the client's next
            # request arrives, pump_up must see every byte of the replies
            # before it counted, or a "down" cut would come too early.
            with self.lock:
                cut_at = self.down_cut_at
                if cut_at is not None and self.down_sent + len(data) >= cut_at:
                    data = data[:max(cut_at - self.down_sent, 0)]
                    if self.send(self.client, data):
                        self.down_sent += len(data)
                else:
                    cut_at = None
                    if not self.send(self.client, data):
                        break
                    self.down_sent += len(data)
            if cut_at is not None:
                self.do_cut('down', self.rule.nbytes)
                break
        self.finish(self.client)

    def send(self, sock, data):
        try:
            sock.sendall(data)
            return True
        except OSError:
            return False

    def finish(self, sock):
        """One side ended (or was cut): pass the end on."""
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        if self.cut:
            for s in (self.client, self.store):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def main(argv):
    p = argparse.ArgumentParser(description='TCP relay that cuts chosen connections')
    p.add_argument('--target', required=True, help='HOST:PORT of the store')
    p.add_argument('--port-file', required=True, help='where the listening port is written')
    p.add_argument('--log', required=True, help='the log of connections and cuts')
    p.add_argument('--hold-after-cut', help='after a cut, relay nothing new until this file exists')
    p.add_argument('--cut', action='append', default=[], help='up|down:BYTES[xTIMES]:PATTERN')
    a = p.parse_args(argv[1:])
    host, _, port = a.target.rpartition(':')
    try:
        rules = [Rule(r) for r in a.cut]
    except ValueError as e:
        sys.stderr.write('tcp_relay.py: %s\n' % e)
        return 2
    log = open(a.log, 'a')
    relay = Relay((host, int(port)), rules, log, a.hold_after_cut)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(('127.0.0.1', 0))
    listener.listen(64)
    tmp = a.port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % listener.getsockname()[1])
    os.rename(tmp, a.port_file)

    while True:
        client, _ = listener.accept()
        threading.Thread(target=relay.serve, args=(client,), daemon=True).start()


if __name__ == '__main__':
    sys.exit(main(sys.argv))
