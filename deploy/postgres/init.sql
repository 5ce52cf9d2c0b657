-- Run once by the postgres image, as POSTGRES_USER (sync), when its data volume is empty
-- (docker-compose.yml mounts this folder's file into /docker-entrypoint-initdb.d).
-- The control database holds the Coordinator's bookkeeping (its migrations run at start-up);
-- the two demo databases are where jobs/orders.yml reads and writes. The orders tables themselves
-- are not created here: see README.md, Operations, "With containers".
CREATE DATABASE sync_control;
CREATE DATABASE sync_demo_source;
CREATE DATABASE sync_demo_destination;
