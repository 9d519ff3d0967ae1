"""The one service object the dashboard and the command line ask (``core.NarratorService``, its methods grouped
by concern in this package), the views it hands back, and refreshing every repository (``refresh``, ``narrate --all``)."""
