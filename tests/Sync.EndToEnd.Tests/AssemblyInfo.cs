// Every test starts real processes against one PostgreSQL and one RabbitMQ on a 2-core machine:
// running them one at a time keeps timings sane and failures readable.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
