#!/usr/bin/env python3
"""handover_server.py PORT MODE TARGET [PREFIX [COUNT]]: a wrapped server for
run_handover.sh. Listens on 127.0.0.1:PORT, accepts one connection, reads
PREFIX bytes (default 1000) and echoes them itself, then hands the
connection to TARGET (a program that echoes stdin to stdout) on fds 0 and 1
(mode subprocess: COUNT connections, default 1, each handed to its own
TARGET while the server accepts the next; exit status the worst of them):
  exec   dup2 onto 0 and 1, then execv in this process
  fork   fork; the child dup2s and execs (CGI style); the parent closes its copy
  spawn  subprocess.Popen(stdin=, stdout=, close_fds=False): posix_spawn with
         adddup2 file actions; the parent closes its copy
  subprocess  subprocess.Popen(stdin=, stdout=) with the defaults
         (close_fds=True: vfork, dup2 onto 0 and 1 and close_range in the
         child, then exec); the parent closes its copy
  system os.system(TARGET), a shell command, with the connection on 0 and
         1; logs "system status N" (N: the shell's exit code)
  popen  C popen(TARGET, "w") (through ctypes) with the connection on 1
         (the command takes its stdin from it too); logs "pclose status N"
Exit 3 when the exec or spawn is refused (the error on stderr)."""
import os
import socket
import subprocess
import sys

port, mode, target = int(sys.argv[1]), sys.argv[2], sys.argv[3]
prefix = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
count = int(sys.argv[5]) if len(sys.argv) > 5 else 1
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(64)


def accept_and_echo():
    c, _ = ls.accept()
    got = b""
    while len(got) < prefix:
        b = c.recv(prefix - len(got))
        if not b:
            break
        got += b
    c.sendall(got)
    return c


c = accept_and_echo()
if count == 1:
    ls.close()


def onto_stdio():
    os.dup2(c.fileno(), 0)
    os.dup2(c.fileno(), 1)


try:
    if mode == "exec":
        onto_stdio()
        os.execv(target, [target])
    elif mode == "fork":
        pid = os.fork()
        if pid == 0:
            try:
                onto_stdio()
                os.execv(target, [target])
            except OSError as e:
                print(f"handover_server: child: {e}", file=sys.stderr)
                os._exit(3)
        c.close()
        _, st = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(st))
    elif mode == "spawn":
        p = subprocess.Popen([target], stdin=c, stdout=c, close_fds=False)
        c.close()
        sys.exit(p.wait())
    elif mode == "subprocess":
        procs = []
        for i in range(count):
            if i:
                c = accept_and_echo()
            procs.append(subprocess.Popen([target], stdin=c, stdout=c))
            c.close()
        sys.exit(max(p.wait() for p in procs))
    elif mode == "system":
        onto_stdio()
        st = os.system(target)
        print(f"handover_server: system status {os.waitstatus_to_exitcode(st)}", file=sys.stderr)
    elif mode == "popen":
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.popen.restype = ctypes.c_void_p
        libc.popen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        libc.pclose.argtypes = [ctypes.c_void_p]
        os.dup2(c.fileno(), 1)
        f = libc.popen(target.encode(), b"w")
        if not f:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        st = libc.pclose(f)
        print(f"handover_server: pclose status {os.waitstatus_to_exitcode(st)}", file=sys.stderr)
except OSError as e:
    print(f"handover_server: {mode} {target}: {e}", file=sys.stderr)
    sys.exit(3)
