"""Streamlit dashboard: pages that show the narratives kept by the service layer."""
