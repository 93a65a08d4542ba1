"""Messages to the shopper: each outbox event of an order (or a stock alert) becomes one email per message
type, rendered from templates in the order's language and sent through the kernel's mail transport
(`retail.mail`), once per event."""
