using System.Net;
using System.Net.Sockets;
using Amazon.S3;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Sync.ObjectStorage;

namespace Sync.Connectors.Tests;

public sealed class TransientErrorsTests
{
    [Theory]
    [InlineData(PostgresErrorCodes.SerializationFailure)]
    [InlineData(PostgresErrorCodes.DeadlockDetected)]
    [InlineData(PostgresErrorCodes.LockNotAvailable)]
    [InlineData(PostgresErrorCodes.AdminShutdown)]
    [InlineData(PostgresErrorCodes.CannotConnectNow)]
    [InlineData(PostgresErrorCodes.TooManyConnections)]
    [InlineData(PostgresErrorCodes.ConnectionFailure)]
    public void Conditions_another_attempt_can_get_past_are_transient(string sqlState) =>
        Assert.True(TransientErrors.IsTransient(Postgres(sqlState)));

    [Theory]
    [InlineData(PostgresErrorCodes.StringDataRightTruncation)]
    [InlineData(PostgresErrorCodes.InvalidTextRepresentation)]
    [InlineData(PostgresErrorCodes.UniqueViolation)]
    [InlineData(PostgresErrorCodes.CheckViolation)]
    [InlineData(PostgresErrorCodes.UndefinedColumn)]
    [InlineData(PostgresErrorCodes.InsufficientPrivilege)]
    public void Data_constraint_and_schema_errors_are_permanent(string sqlState) =>
        Assert.False(TransientErrors.IsTransient(Postgres(sqlState)));

    [Fact]
    public void Network_failures_are_transient_even_when_wrapped()
    {
        Assert.True(TransientErrors.IsTransient(new SocketException()));
        Assert.True(TransientErrors.IsTransient(new TimeoutException()));
        Assert.True(TransientErrors.IsTransient(new InvalidOperationException("wrapped", new IOException("reset"))));
    }

    [Fact]
    public void Schema_mismatches_and_unknown_connections_are_permanent()
    {
        Assert.False(TransientErrors.IsTransient(new DestinationSchemaException("no such column")));
        Assert.False(TransientErrors.IsTransient(new UnknownConnectionException("warehouse")));
        Assert.False(TransientErrors.IsTransient(new InvalidOperationException("bug")));
    }

    // The core carries no AWS SDK: S3 connections teach it the S3 answers that may pass.
    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.RequestTimeout, true)]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.Forbidden, false)]
    [InlineData(HttpStatusCode.NotFound, false)]
    public void S3_answers_that_may_pass_are_transient_once_S3_connections_exist(HttpStatusCode status, bool transient)
    {
        using var connections = new S3Connections(new ConfigurationBuilder().Build());

        Assert.Equal(transient, TransientErrors.IsTransient(new AmazonS3Exception("answer") { StatusCode = status }));
    }

    private static PostgresException Postgres(string sqlState) => new("message", "ERROR", "ERROR", sqlState);
}
