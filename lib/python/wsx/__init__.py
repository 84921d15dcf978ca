"""wsx - fast WebSockets for Python over libwsx (RFC 6455, RFC 7692).

wsx.sansio: a connection without I/O (bytes in, events and bytes out).
wsx.serve / wsx.connect: an asyncio API shaped like websockets'.
"""
from ._ffi import LIBRARY_PATH, ffi, lib
from .sansio import (CLIENT, CLOSED, CLOSING, HANDSHAKE, OPEN, SERVER, Close,
                     Config, Connection, Headers, Open, Ping, Pong,
                     WebSocketError)
from .aio import ConnectionClosed, ConnectionClosedError, ConnectionClosedOK, \
    InvalidHandshake, WebSocket, connect, serve

__all__ = ["CLIENT", "CLOSED", "CLOSING", "HANDSHAKE", "OPEN", "SERVER",
           "Close", "Config", "Connection", "ConnectionClosed",
           "ConnectionClosedError", "ConnectionClosedOK", "Headers",
           "InvalidHandshake", "LIBRARY_PATH", "Open", "Ping", "Pong",
           "WebSocket", "WebSocketError", "connect", "library_version",
           "serve"]
__version__ = "0.1.0"


def library_version():
    """The version of the loaded libwsx."""
    return ffi.string(lib.wsx_version()).decode()
