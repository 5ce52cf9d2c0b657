-- Run once by the postgres image, as the superuser POSTGRES_USER (postgres), when its data volume
-- is empty (deploy/postgres/Dockerfile copies it into /docker-entrypoint-initdb.d).
-- The services connect as the role sync, which is no superuser (issue 20). It owns the three
-- databases, so it may create what the migrations make in them (the control database's tables,
-- the destination's schema sync) and the tables of the demo, and it may replicate: cdc creates
-- replication slots (REPLICATION) and publications FOR TABLE, which PostgreSQL 15 allows the
-- owner of the tables with CREATE on the database. And it reads pg_stat_activity whole
-- (pg_read_all_stats): a PostgreSQL source checks other roles' open transactions before it moves a
-- watermark, and refuses to run without (found running the demo job on this role). Nothing more.
-- Its password is the content of the file $SYNC_DB_PASSWORD_FILE (the secret postgres-sync;
-- entrypoint.sh checks it is there).
-- The control database holds the Coordinator's bookkeeping (its migrations run at start-up);
-- the two demo databases are where jobs/orders.yml reads and writes. The orders tables themselves
-- are not created here: `./run containers demo` (scripts/containers.sh) creates them.
\set sync_password `cat "$SYNC_DB_PASSWORD_FILE"`
CREATE ROLE sync LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'sync_password';
GRANT pg_read_all_stats TO sync;
CREATE DATABASE sync_control OWNER sync;
CREATE DATABASE sync_demo_source OWNER sync;
CREATE DATABASE sync_demo_destination OWNER sync;
