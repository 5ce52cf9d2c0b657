using System.Net.Sockets;
using Npgsql;

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

    private static PostgresException Postgres(string sqlState) => new("message", "ERROR", "ERROR", sqlState);
}
