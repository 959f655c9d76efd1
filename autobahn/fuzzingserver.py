# -*- coding: utf-8 -*-
# Python 2.7 (the private interpreter of autobahn/install.sh). Runs the Autobahn|Testsuite
# fuzzing server from a spec file, listening on 127.0.0.1 only (plain `wstest -m
# fuzzingserver` listens on every interface and opens a second web server), prints
# "ready" once listening, and writes the reports again when stopped with SIGTERM.
#
# usage: python2 fuzzingserver.py SPEC.json
import json
import sys

from autobahntestsuite import choosereactor  # noqa: F401  (selects the epoll reactor)
from autobahntestsuite.fuzzing import FuzzingServerFactory
from twisted.internet import reactor


def main(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    factory = FuzzingServerFactory(spec, False)
    reactor.listenTCP(factory.port, factory, 50, "127.0.0.1")

    def final_reports():
        if factory.agents:
            factory.createReports()

    reactor.addSystemEventTrigger("before", "shutdown", final_reports)
    print("ready: %d cases on port %d" % (len(factory.specCases), factory.port))
    sys.stdout.flush()
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1])
