"""The close codes the server uses, and the ones a metric may carry as a label."""

SERVICE_RESTART = 1012  # SIGTERM: reconnect, to another process
# Try again later: a client too slow to keep up, a room or channel the server cannot take now.
TRY_AGAIN_LATER = 1013

# Those RFC 6455 and its registry define. A client picks its own close code, and each distinct
# label value is a time series kept for good: any other code is labelled "other".
KNOWN_CLOSE_CODES = frozenset(
    {1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015}
)


def close_code_label(code: int) -> str:
    return str(code) if code in KNOWN_CLOSE_CODES else "other"
