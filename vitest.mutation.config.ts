import { defineConfig } from 'vitest/config';

// The engine's unit tests only: pure code and the runtime against a recording
// client, no database, so each mutant runs in milliseconds.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
  },
});
