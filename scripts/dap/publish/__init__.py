"""What people read: the yearly table on the terminal, the public report (HTML page, PNG
chart, daily CSV), all from the trusted zone."""
