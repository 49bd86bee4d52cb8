# Copyright (c) mmreid_text contributors. All rights reserved.
import pytest
from chat_server_utils import ChatServer


@pytest.fixture
def chat_server():
    """Factory starting ``ChatServer(responder, **kwargs)``; stopped after
    the test."""
    servers = []

    def start(responder, **kwargs):
        server = ChatServer(responder, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
