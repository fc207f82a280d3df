#!/bin/sh
# The relay test behind nginx.
WEB=nginx exec "$(dirname "$0")/test_relay.sh"
