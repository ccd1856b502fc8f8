/* fcgi_static.c - the baseline: a minimal FastCGI responder that returns the
 * bytes of one file from memory, to compare carebox's pages against.
 * With -c it also closes each connection the way carebox does (see
 * serve_one): at once, instead of libfcgi's half-close and wait for nginx
 * to hang up. */
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* usage: fcgi_static [-c] FILE (the listening socket is fd 0, as for carebox). */
int main(int argc, char **argv)
{
	FCGX_Request req;
	static char body[1 << 20];
	int quick_close = argc == 3 && strcmp(argv[1], "-c") == 0;
	size_t len;
	FILE *f;

	if (argc != 2 + quick_close || (f = fopen(argv[argc - 1], "rb")) == NULL) {
		fputs("usage: fcgi_static [-c] FILE\n", stderr);
		return 2;
	}
	len = fread(body, 1, sizeof(body), f);
	fclose(f);
	FCGX_Init();
	FCGX_InitRequest(&req, 0, 0);
	while (FCGX_Accept_r(&req) == 0) {
		FCGX_FPrintF(req.out, "Status: 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
			     "Content-Length: %d\r\nCache-Control: no-store\r\n\r\n", (int)len);
		FCGX_PutStr(body, (int)len, req.out);
		if (quick_close && FCGX_GetChar(req.in) == EOF)
			FCGX_Detach(&req);
		FCGX_Finish_r(&req);
	}
	return 0;
}
