# tests/integration/lib/swift_server.py - run one Swift server for lib/swift.sh.
#
# Usage (by swift.sh, with /usr/bin/python3 and PYTHONPATH set to this dir):
#     swift_server.py ETC_DIR CONF_FILE SECTION
# SECTION is proxy-server, account-server, container-server or object-server.
#
# Swift's own launchers (swift-proxy-server and friends) read the hash path
# prefix/suffix and the storage policies from /etc/swift/swift.conf, a path
# fixed in swift.common.utils; a test must not depend on, or write to, the
# machine's /etc/swift. So this launcher points utils.SWIFT_CONF_FILE at
# ETC_DIR/swift.conf and reloads the storage policies before anything else
# reads them, then calls the same run_wsgi() the Debian launchers call.
#
# Logging: Swift logs to syslog only, which a container usually does not run.
# We replace its syslog handler with one that drops records and run with
# verbose=True, so every record goes to stderr once; swift.sh sends stderr to
# a log file in the test's temp dir. (verbose also keeps run_wsgi from
# pointing fd 2 at /dev/null.)
#
# The module also provides cache_filter_factory, a dict-backed stand-in for
# the memcache middleware: tempauth refuses to work without env['swift.cache']
# ("Memcache required"), and a test should not need a memcached. The proxy
# pipeline loads it with "use = call:swift_server:cache_filter_factory".

import logging
import os
import sys
import time


class _DropHandler(logging.Handler):
    """Stands in for Swift's syslog handler: accepts any arguments, emits nothing."""

    def __init__(self, *args, **kwargs):
        logging.Handler.__init__(self)

    def emit(self, record):
        pass


class _DictCache(object):
    """The subset of swift.common.memcached.MemcacheRing that the proxy,
    tempauth, s3api and slo call, kept in one process's memory. Times are
    honoured: Swift stores token expiries and cached info with them."""

    def __init__(self):
        self._data = {}

    def _expiry(self, time_arg):
        if not time_arg:
            return None
        # memcached treats values above 30 days as absolute times
        if time_arg > 30 * 24 * 3600:
            return float(time_arg)
        return time.time() + float(time_arg)

    def get(self, key, **kwargs):
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires < time.time():
            del self._data[key]
            return None
        return value

    def set(self, key, value, serialize=True, time=0, **kwargs):
        self._data[key] = (value, self._expiry(time))

    def delete(self, key, **kwargs):
        self._data.pop(key, None)

    def incr(self, key, delta=1, time=0, **kwargs):
        value = int(self.get(key) or 0) + int(delta)
        if value < 0:
            value = 0
        self.set(key, value, time=time)
        return value

    def decr(self, key, delta=1, time=0, **kwargs):
        return self.incr(key, -int(delta), time=time)

    def get_multi(self, keys, server_key, **kwargs):
        return [self.get(k) for k in keys]

    def set_multi(self, mapping, server_key, serialize=True, time=0, **kwargs):
        for key, value in mapping.items():
            self.set(key, value, time=time)


def cache_filter_factory(global_conf, **local_conf):
    """Paste filter factory: put one shared _DictCache in every request's
    environment under swift.cache, as the memcache middleware does."""
    cache = _DictCache()

    def make_filter(app):
        def middleware(env, start_response):
            env['swift.cache'] = cache
            return app(env, start_response)
        return middleware
    return make_filter


def main(argv):
    if len(argv) != 4:
        sys.stderr.write('usage: swift_server.py ETC_DIR CONF_FILE SECTION\n')
        return 2
    etc_dir, conf_file, section = argv[1:]

    from swift.common import utils
    utils.SWIFT_CONF_FILE = os.path.join(etc_dir, 'swift.conf')
    utils.HASH_PATH_PREFIX = b''
    utils.HASH_PATH_SUFFIX = b''
    utils.ThreadSafeSysLogHandler = _DropHandler
    from swift.common import storage_policy
    storage_policy.reload_storage_policies()
    from swift.common.wsgi import run_wsgi

    kwargs = {'verbose': True}
    if section == 'object-server':
        from swift.obj import server
        kwargs['global_conf_callback'] = server.global_conf_callback
    return run_wsgi(conf_file, section, **kwargs)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
