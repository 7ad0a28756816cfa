"""doctor: probe each organization's real SMTP server without sending anything."""
