"""Tests of dashboard/: the Streamlit pages run in-process."""
