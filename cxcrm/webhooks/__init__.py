"""Outgoing webhooks: Standard Webhooks signatures, delivery with retries, the delivery log."""
