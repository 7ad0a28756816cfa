"""notifycfg: email-notification settings as code."""

__version__ = "0.1.0"
