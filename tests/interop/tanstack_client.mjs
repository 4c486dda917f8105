// Drives the real @tanstack/ai-client against a chat endpoint, the way a browser front end does.
//
// Usage: node tanstack_client.mjs <url> <threadId> <message> [<message> ...]
//
// Creates a ChatClient with fetchServerSentEvents(url), sends the user messages one after the
// other (each once the previous run has settled) and prints one JSON object on stdout:
//   { status, messages, customEvents: [{ name, data, toolCallId }], errors: [{ name, message }],
//     chunks: [<type of every stream event the client received>] }
// Chat errors (HTTP status, RUN_ERROR, a malformed stream) are reported in `errors`, not by the
// exit code; a non-zero exit means the driver itself failed. Needs nothing beyond Node 20's
// fetch, ReadableStream and TextDecoder.

import { ChatClient, fetchServerSentEvents } from '@tanstack/ai-client'

const RUN_TIMEOUT_MS = 60_000

const [url, threadId, ...userMessages] = process.argv.slice(2)
if (!url || !threadId || userMessages.length === 0) {
  process.stderr.write('usage: node tanstack_client.mjs <url> <threadId> <message> [<message> ...]\n')
  process.exit(2)
}

const customEvents = []
const errors = []
const chunks = []

function describe(error) {
  return { name: error?.name ?? 'Error', message: String(error?.message ?? error) }
}

const client = new ChatClient({
  connection: fetchServerSentEvents(url),
  threadId,
  onCustomEvent: (name, data, context) => {
    customEvents.push({ name, data, toolCallId: context?.toolCallId ?? null })
  },
  onChunk: (chunk) => chunks.push(chunk.type),
  onError: (error) => errors.push(describe(error)),
})

async function send(message) {
  let timer
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => {
      errors.push({ name: 'DriverTimeout', message: `run not settled after ${RUN_TIMEOUT_MS} ms` })
      client.stop()
      resolve(false)
    }, RUN_TIMEOUT_MS)
  })
  try {
    return await Promise.race([client.sendMessage(message).then(() => true), timedOut])
  } catch (error) {
    errors.push(describe(error))
    return false
  } finally {
    clearTimeout(timer)
  }
}

for (const message of userMessages) {
  if (!(await send(message)) || errors.length > 0) break
}

const clientError = client.getError()
if (clientError && !errors.some((e) => e.message === clientError.message)) {
  errors.push(describe(clientError))
}

const report = {
  status: client.getStatus(),
  messages: client.getMessages(),
  customEvents,
  errors,
  chunks,
}
client.dispose()
// The client's subscription loop may keep the event loop alive; exit once stdout is flushed.
process.stdout.write(JSON.stringify(report) + '\n', () => process.exit(0))
