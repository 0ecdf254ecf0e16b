namespace Grinder.Tests.Infrastructure;

/// <summary>Waits on an observable condition with a timeout instead of a fixed sleep.</summary>
public static class Eventually
{
    public static async Task<T> ReturnsAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        T last = default!;
        Exception? lastError = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await probe();
                if (done(last))
                {
                    return last;
                }

                lastError = null;
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                lastError = ex;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#}s waiting for {what}; last value: {last}; last error: {lastError?.Message}");
    }

    public static Task TrueAsync(Func<Task<bool>> probe, TimeSpan timeout, string what) =>
        ReturnsAsync(probe, static ok => ok, timeout, what);
}
