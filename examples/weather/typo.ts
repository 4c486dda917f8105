// A program with a mistake, to show the error a model gets back: line 11 passes a number.
interface Lookup {
  city: string;
}

const wanted: Lookup[] = [{ city: "Paris" }, { city: "Oslo" }];
const found = await Promise.all(wanted.map((w) => external_get_current_weather(w)));
console.log(`found ${found.length} cities`);

// The tool wants a string: the error names the tool, the field and this line.
const broken = await external_get_current_weather({ city: 42 as unknown as string });
return broken;
