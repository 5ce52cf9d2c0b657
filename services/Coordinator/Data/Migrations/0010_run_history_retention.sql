-- Run history is kept for Coordinator__RunHistoryRetention (issue 18): old finished runs are found by their end.
CREATE INDEX sync_runs_finished ON sync_runs (finished_at) WHERE finished_at IS NOT NULL;
