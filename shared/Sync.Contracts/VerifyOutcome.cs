namespace Sync.Contracts;

/// <summary>A verification's result; the values are the CLI's exit codes.</summary>
public enum VerifyOutcome
{
    Equal = 0,
    Different = 1,
    Unverifiable = 2,
}
