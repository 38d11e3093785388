-- Messages by their RFC Message-ID (MCP get_message, the read model's message(rfcId:), senders of listed
-- ids): without it each lookup scanned every email (28 ms at 104,598 emails; 0.01 ms with it).
CREATE INDEX emails_message_id ON emails(message_id);
