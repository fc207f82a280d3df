#!/bin/sh
# The relay test behind lighttpd.
WEB=lighttpd exec "$(dirname "$0")/test_relay.sh"
