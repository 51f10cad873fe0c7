// Starts the telegram-test-api emulator on 127.0.0.1:<port> (argv[2]) and prints READY.
// Used by tests/integration/delivery/telegram_test_api_test.cc; stops on SIGTERM.
const TelegramServer = require('telegram-test-api');

const port = Number(process.argv[2]);
const server = new TelegramServer({port, host: '127.0.0.1', storage: 'RAM', storeTimeout: 60});
server.start().then(() => console.log('READY'));
process.on('SIGTERM', () => server.stop().then(() => process.exit(0)));
