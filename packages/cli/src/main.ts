const [command] = process.argv.slice(2);
console.log(`baton: ${command ?? 'no command'}`);
