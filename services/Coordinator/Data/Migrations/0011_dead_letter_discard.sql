-- An operator may discard a pending record dead letter (issue 18): it is kept, marked, and never replayed.
ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_status_check;
ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_status_check CHECK (status IN ('pending', 'replaying', 'replayed', 'discarded'));
