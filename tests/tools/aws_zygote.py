#!/usr/bin/python3
"""A warm AWS CLI for the CLI test scripts: awscli imported once, a fork per call.

An `aws` command costs about a second of CPU, nearly all of it Python importing awscli and
botocore, and the scripts run hundreds of them (in polls, too): measured, 56 calls were 87 of
serve_kill_test's 94 CPU-seconds. This server imports them once, then listens on a unix socket;
tests/tools/aws_client.py (testlib.bash's $AWS_CLI) sends it a call's arguments, environment,
working folder and its stdin, stdout and stderr (SCM_RIGHTS), and gets the exit status back. Each
call runs in a fork of the warm process with that environment and those files: the same awscli
code as `/usr/bin/aws ARGS`, its imports done before (a fork costs about a third of a start).

usage: /usr/bin/python3 aws_zygote.py SOCKET    ("ready" on stdout once it listens; it ends
with SIGTERM, or when the process that started it ends)
"""
import ctypes
import gc
import json
import os
import signal
import socket
import struct
import sys


def remember_service_scans():
    """Each call's driver builds its command table from the list of services its loader finds by
    walking botocore's data folders (about 2,400 listdir and 5,000 stat calls: measured, 0.18 of
    a call's 0.5 CPU-seconds). The folders are the installed package's and do not change while a
    script runs, so the walk is made once per search path here, before the forks, and each call
    gets its result. A call whose search path differs (another HOME, AWS_DATA_PATH) walks its own.
    The parsed models are not shared: botocore changes them as it loads them."""
    # the botocore awscli runs is the top-level one (Debian's awscli puts its copy on the path
    # as `botocore`), not the module awscli.botocore imports as
    from botocore import loaders
    scans = {}

    def shared(name, params):
        method = getattr(loaders.Loader, name)

        def scan(self, *args, **kwargs):
            values = args + tuple(kwargs.pop(p) for p in params[len(args):] if p in kwargs)
            if kwargs or len(values) != len(params):  # not a call this knows: not remembered
                return method(self, *args, **kwargs)
            key = (name, tuple(self.search_paths)) + values
            if key not in scans:
                scans[key] = method(self, *values)
            found = scans[key]
            return list(found) if isinstance(found, list) else found
        setattr(loaders.Loader, name, scan)

    shared("list_available_services", ("type_name",))
    shared("determine_latest_version", ("service_name", "type_name"))
    return loaders


def warm():
    """Imports what a call imports (a driver made and dropped, its command table built). Returns
    the environment variables the imports set (awscli adds its data folder to AWS_DATA_PATH when
    imported): each call's environment gets them too, as a fresh import would give it."""
    before = dict(os.environ)
    from awscli import clidriver
    remember_service_scans()
    driver = clidriver.create_clidriver()
    driver._get_command_table()
    # the walks a call's client makes: its service's models, waiters, paginators, endpoint rules
    loader = driver.session.get_component("data_loader")
    for type_name in ("service-2", "waiters-2", "paginators-1", "endpoint-rule-set-1"):
        loader.list_available_services(type_name)
    import awscli.customizations.s3.subcommands  # noqa: F401
    import s3transfer.manager  # noqa: F401
    return {k: v for k, v in os.environ.items() if before.get(k) != v}


def exit_status(e):
    return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)


def serve_one(conn, added):
    """In the forked child: becomes the call (its files, folder, environment), runs the AWS CLI's
    main, sends the exit status back."""
    msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    req = json.loads(msg.decode())
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    for k, v in added.items():
        os.environ.setdefault(k, v)
    for sig in (signal.SIGTERM, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = ["aws"] + req["argv"]
    from awscli import clidriver
    try:
        rc = clidriver.main()
    except SystemExit as e:
        rc = exit_status(e)
    except BaseException:  # as the real command would show it
        import traceback
        traceback.print_exc()
        rc = 255
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    conn.sendall(struct.pack("!i", rc if isinstance(rc, int) else 1))
    os._exit(0)


def reap(*_):
    # waited for (not ignored), so that the calls' CPU is counted to this process and, once the
    # script waited for it, to the script (scripts/test-all.sh reports each script's CPU)
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def main():
    path = sys.argv[1]
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: ends with its starter
    added = warm()
    gc.freeze()  # the warm objects stay out of collections: fewer pages copied in each fork
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(path)
    srv.listen(64)
    signal.signal(signal.SIGCHLD, reap)
    signal.signal(signal.SIGTERM, lambda *_: (reap(), os._exit(0)))
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        if os.fork() == 0:
            srv.close()
            serve_one(conn, added)
        conn.close()


if __name__ == "__main__":
    main()
