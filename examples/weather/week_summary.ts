// A week of forecasts for every city, reduced to what a person wants to know.
enum Verdict {
  Pack = "pack an umbrella",
  Enjoy = "enjoy the sun",
  Mixed = "mixed",
}

type Summary = { city: string; avgHigh: number; rainyDays: number; verdict: Verdict };

function verdictFor(rainyDays: number, sunnyDays: number): Verdict {
  if (rainyDays >= 2) return Verdict.Pack;
  return sunnyDays >= 4 ? Verdict.Enjoy : Verdict.Mixed;
}

const cities: string[] = await external_list_cities({});
const forecasts = await Promise.all(
  cities.map((city) => external_get_forecast({ city, days: 7 }).then((days) => ({ city, days }))),
);

const summaries: Summary[] = forecasts.map(({ city, days }) => {
  const rainyDays = days.filter((d) => d.condition === "rain" || d.condition === "snow").length;
  const sunnyDays = days.filter((d) => d.condition === "sunny").length;
  const avgHigh = days.reduce((sum, d) => sum + d.high, 0) / days.length;
  return { city, avgHigh: Math.round(avgHigh * 10) / 10, rainyDays, verdict: verdictFor(rainyDays, sunnyDays) };
});

console.info(`${summaries.filter((s) => s.verdict === Verdict.Pack).length} cities need an umbrella`);
return summaries.toSorted((a, b) => b.avgHigh - a.avgHigh);
