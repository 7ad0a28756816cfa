"""The platform bridge: the settings mapping, a client for the Identity settings API, plan, apply, import, export."""
