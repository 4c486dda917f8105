// Which known city is warmest right now? One round of concurrent lookups.
interface Ranked {
  city: string;
  temp: number;
  fahrenheit: number;
}

const cities = await external_list_cities({});
console.log(`checking ${cities.length} cities`);

const current = await Promise.all(cities.map((city) => external_get_current_weather({ city })));
const ranked: Ranked[] = await Promise.all(
  current
    .toSorted((a, b) => b.temp - a.temp)
    .map(async (w) => ({
      city: w.city,
      temp: w.temp,
      fahrenheit: await external_celsius_to_fahrenheit({ celsius: w.temp }),
    })),
);

return { warmest: ranked[0], ranking: ranked.map((r) => r.city) };
