// A reader that goes away (`raftplane get -w | head -1`, `npm run cluster -- logs 1 | head`) ends
// the output quietly, as for any Unix tool, instead of an EPIPE stack.

/** Makes EPIPE on stdout or stderr exit the process with 0; any other stream error is thrown. */
export function exitQuietlyWhenReaderLeaves(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
}
