"""The one service object the dashboard and the command line ask (``core.NarratorService``) and the
views it hands back (``views``)."""
