"""What the relays accept and what their refusals mean: a sourced catalogue, read by validate and doctor."""
