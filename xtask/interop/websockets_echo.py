"""An echo server from PyPI's `websockets` (the reference Python implementation), plain and
over TLS, for ws-client's interop tests. Prints "ready" once both ports listen.

usage: python websockets_echo.py PORT TLS_PORT CERT_PEM KEY_PEM
"""
import asyncio
import ssl
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main(port, tls_port, cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    plain = serve(echo, "127.0.0.1", port, max_size=None, subprotocols=["chat"])
    secure = serve(echo, "127.0.0.1", tls_port, ssl=context, max_size=None)
    async with plain, secure:
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]))
