-- Records a stage set aside (kind record) and whole messages a stage gave up on (kind message).
-- Only the Coordinator writes here, in the saga transaction that records the batch, so a batch
-- reported twice leaves its dead letters once (the unique index below).
CREATE TABLE dead_letters (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('record', 'message')),
    job_name text NOT NULL,
    run_id uuid NOT NULL,
    -- Zero for a message dead letter, which has no extraction; batch_seq -1 for a whole extraction.
    extraction_id uuid NOT NULL,
    batch_seq integer NOT NULL,
    -- The row's index in the batch the stage received; -1 for a message.
    row_index integer NOT NULL,
    stage text NOT NULL,
    error text NOT NULL,
    -- The endpoint whose _error queue holds the message (kind message).
    queue text,
    -- The record as its stage received it: the column schema, the binary COPY tuple, and a readable rendering.
    record_columns jsonb,
    record_tuple bytea,
    record_text jsonb,
    attempts integer NOT NULL DEFAULT 1,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'replaying', 'replayed')),
    replay_run_id uuid,
    -- The batch of the replay run that carries this record (one record per replay batch).
    replay_batch_seq integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz
);

CREATE UNIQUE INDEX dead_letters_once ON dead_letters (run_id, extraction_id, batch_seq, stage, row_index);
CREATE UNIQUE INDEX dead_letters_replay_batch ON dead_letters (replay_run_id, replay_batch_seq) WHERE replay_run_id IS NOT NULL;
CREATE INDEX dead_letters_job_status ON dead_letters (job_name, status, id);
