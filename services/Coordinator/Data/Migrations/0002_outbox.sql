-- The transactional inbox and outbox (shared/Sync.Outbox, names in OutboxTables): the saga's
-- state change, its inbox row and the messages it sends commit in one transaction.
CREATE TABLE inbox_state (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id uuid NOT NULL,
    consumer_id uuid NOT NULL,
    lock_id uuid NOT NULL,
    row_version integer NOT NULL DEFAULT 0,
    received timestamptz NOT NULL,
    receive_count integer NOT NULL DEFAULT 0,
    expiration_time timestamptz,
    consumed timestamptz,
    delivered timestamptz,
    last_sequence_number bigint,
    CONSTRAINT inbox_state_message_consumer UNIQUE (message_id, consumer_id)
);
CREATE INDEX inbox_state_delivered ON inbox_state (delivered);
-- The delivery service's look for consumed rows that never got out, and the cleanup by received.
CREATE INDEX inbox_state_undelivered ON inbox_state (consumed) WHERE delivered IS NULL;
CREATE INDEX inbox_state_received ON inbox_state (received) WHERE delivered IS NULL;

CREATE TABLE outbox_message (
    sequence_number bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id uuid NOT NULL,
    conversation_id uuid,
    correlation_id uuid,
    initiator_id uuid,
    request_id uuid,
    source_address text,
    destination_address text,
    response_address text,
    fault_address text,
    content_type text NOT NULL,
    message_type text NOT NULL,
    body text NOT NULL,
    headers jsonb,
    properties jsonb,
    sent_time timestamptz NOT NULL,
    enqueue_time timestamptz,
    expiration_time timestamptz,
    inbox_message_id uuid,
    inbox_consumer_id uuid,
    outbox_id uuid,
    -- Owned by an inbox row (consumer outbox) or by an outbox_state (bus outbox).
    CONSTRAINT outbox_message_owner CHECK ((inbox_message_id IS NOT NULL AND inbox_consumer_id IS NOT NULL) <> (outbox_id IS NOT NULL))
);
CREATE INDEX outbox_message_inbox ON outbox_message (inbox_message_id, inbox_consumer_id, sequence_number);
CREATE INDEX outbox_message_outbox ON outbox_message (outbox_id, sequence_number);
CREATE INDEX outbox_message_enqueue_time ON outbox_message (enqueue_time);
CREATE INDEX outbox_message_expiration_time ON outbox_message (expiration_time);

CREATE TABLE outbox_state (
    outbox_id uuid PRIMARY KEY,
    lock_id uuid NOT NULL,
    row_version integer NOT NULL DEFAULT 0,
    created timestamptz NOT NULL,
    delivered timestamptz,
    last_sequence_number bigint
);
CREATE INDEX outbox_state_created ON outbox_state (created);
