using Sync.Expressions;

namespace Sync.Jobs;

/// <summary>
/// An <c>expr:</c> of a job file, syntax-checked here with the character where it goes wrong; names and
/// types are checked where the batch schema is known (the Coordinator's schema check, the Transformer).
/// </summary>
internal static class ExpressionSection
{
    /// <summary>Checks <paramref name="expression"/>; true and added to <paramref name="expressions"/> under the target when it parses.</summary>
    public static bool Read(YamlNodeReader options, JobFileErrors errors, YamlScalar target, YamlScalar expression, Dictionary<string, string> expressions)
    {
        if (options.Has("source"))
        {
            errors.Add(target.Mark, target.Field, "has both source: and expr:", "keep source: to copy a column, or expr: to compute one");
            return false;
        }

        if (!Check(expression, errors))
        {
            return false;
        }

        expressions[target.Value] = expression.Value;
        return true;
    }

    public static bool Check(YamlScalar expression, JobFileErrors errors)
    {
        try
        {
            Expression.Parse(expression.Value);
            return true;
        }
        catch (ExpressionException exception)
        {
            errors.Add(
                expression.Mark,
                expression.Field,
                $"is not a valid expression {exception.Describe()} (in {expression.Shown})",
                "see \"Expression language\" in docs/job-files.md: columns, 'text', numbers, + - * / %, ||, comparisons, and/or/not, is null, case, and its functions");
            return false;
        }
    }
}
