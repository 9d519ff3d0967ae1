"""The one service object the dashboard and the command line ask."""
