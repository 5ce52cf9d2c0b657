-- The stream (JOB.STREAM) a dead letter of a streams job belongs to, so its replay reads that
-- stream's source table and loads that stream's destination table (issue 18); null for a job of one table.
ALTER TABLE dead_letters ADD COLUMN stream text;
