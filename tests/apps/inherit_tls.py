#!/usr/bin/env python3
"""inherit_tls.py PORT TAG CA CERT KEY -- CMD...: the safety case of
inherit.h. An unwrapped parent (this script) accepts a connection on PORT
and runs the TLS handshake itself (Python's ssl, i.e. OpenSSL), then starts
CMD (a wrapped service) with that already-encrypted socket on its stdin and
stdout, as a super-server would if it spoke TLS. The peer (a client thread,
driving ssl.SSLObject over the raw socket so every wire byte is seen) then
sends one application-data record. The wrapped service must not take it
for a new connection's ClientHello, must not send anything in clear (its
first act is to write a marker), and must not deliver the peer's bytes.
Exit 0 when all of that holds; prints what the peer saw."""
import socket, ssl, subprocess, sys, threading

port, tag, ca, cert, key = sys.argv[1:6]
cmd = sys.argv[7:]
ready = threading.Event()
seen = {"raw": b"", "plain": b"", "error": None}


def peer():
    ctx = ssl.create_default_context(cafile=ca)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)

    def pump():
        if out.pending:
            s.sendall(out.read())

    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pump()
            inc.write(s.recv(65536))
    pump()
    ready.wait(10)
    obj.write(b"PEER-" + tag.encode())
    pump()
    try:
        while (b := s.recv(65536)):
            seen["raw"] += b
            inc.write(b)
            try:
                seen["plain"] += obj.read(65536)
            except ssl.SSLWantReadError:
                pass
    except (ssl.SSLError, OSError) as e:
        seen["error"] = repr(e)
    s.close()


# Listen before the peer thread connects (else its connect may be refused
# and accept() waits until the test's timeout).
srv = socket.create_server(("127.0.0.1", int(port)))
t = threading.Thread(target=peer)
t.start()
conn, _ = srv.accept()
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx.load_cert_chain(cert, key)
tconn = sctx.wrap_socket(conn, server_side=True)  # the handshake runs here
child = subprocess.Popen(cmd, stdin=tconn.fileno(), stdout=tconn.fileno())
tconn.detach()
conn.close()
ready.set()
rc = child.wait(20)
t.join(20)
print("service exit", rc, "| peer error:", seen["error"], "| wire bytes:", len(seen["raw"]),
      "| plaintext:", seen["plain"])
ok = True
if tag.encode() in seen["raw"]:
    print("FAIL: the service's marker crossed in clear")
    ok = False
if seen["plain"]:
    print("FAIL: the peer got data from the service")
    ok = False
sys.exit(0 if ok else 1)
