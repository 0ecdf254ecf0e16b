using Microsoft.Extensions.Options;

namespace Grinder.Grains;

/// <summary>Adapts a <c>Validate(options)</c> method that yields one message per broken setting to <see cref="IValidateOptions{T}"/>.</summary>
public sealed class DelegateValidator<T>(Func<T, IEnumerable<string>> validate) : IValidateOptions<T>
    where T : class
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var failures = validate(options).ToArray();
        return failures.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
